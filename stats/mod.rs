// SPDX-License-Identifier: GPL-2.0

//! Statistics: what the heaps have handed out and to whom.
//!
//! Per-heap accounting and limits, the list of live buffers, the ledger
//! of every page the module holds, and the tracepoints.

pub(crate) mod accounting;
pub(crate) mod ledger;
pub(crate) mod live;
pub(crate) mod trace;
