// A heap must not vouch for pages itself: Backing is an unsafe trait, and
// heaps/ cannot write `unsafe impl`. Expected: E0200.
use crate::memory::buffer::Backing;
use crate::memory::page::PageRun;

pub(crate) struct Evil;

impl Backing for Evil {
    fn runs(&self) -> impl Iterator<Item = PageRun<'_>> + '_ {
        core::iter::empty()
    }
}
