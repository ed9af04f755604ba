// heaps/ is safe Rust, and not by convention: an `unsafe` block there does
// not build, whatever its comment says. Expected: lint unsafe_code
// (heaps/mod.rs forbids it for every file of the folder).
pub(crate) fn evil(p: *const u8) -> u8 {
    // SAFETY: None; the compiler refuses this before a reviewer must.
    unsafe { *p }
}
