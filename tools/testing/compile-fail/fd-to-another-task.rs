// A file descriptor reservation stays with the task that made it.
// Expected: E0277 (`*mut ()` cannot be sent between threads safely).
use crate::frontend::fd::FdReservation;

fn needs_send<T: Send>(_: T) {}

pub(crate) fn evil(r: FdReservation) {
    needs_send(r);
}
