//! The tracing output of one test, captured while the other tests of this binary run beside
//! it.
//!
//! One global subscriber, installed on first use, formats only the events of a thread that
//! is capturing (a `#[tokio::test]` runs its tasks on its own thread), into that thread's
//! buffer; other threads' events are not even formatted. Its filter is dynamic (asked for
//! every event), so no callsite interest cached by another test can hide an event, which made
//! a thread-local `set_default` subscriber's output depend on test order. `log` records (of
//! the HTTP stack) are turned into events too.

use std::cell::RefCell;
use std::io::Write;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, Once, PoisonError};

use tracing::Level;
use tracing_subscriber::filter::dynamic_filter_fn;
use tracing_subscriber::fmt::format::FmtSpan;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

thread_local! {
    /// The capture of this thread: the most verbose level kept, and where lines go.
    static CAPTURE: RefCell<Option<(Level, Buffer)>> = const { RefCell::new(None) };
}

/// Every line written, in order.
#[derive(Clone, Default)]
pub(crate) struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    /// Everything written so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The writer of the thread an event is formatted on: its buffer, or nothing.
struct ThreadWriter;

impl<'a> MakeWriter<'a> for ThreadWriter {
    type Writer = ThreadBuffer;

    fn make_writer(&'a self) -> ThreadBuffer {
        ThreadBuffer(CAPTURE.with(|c| c.borrow().as_ref().map(|(_, b)| b.clone())))
    }
}

struct ThreadBuffer(Option<Buffer>);

impl Write for ThreadBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.0 {
            Some(buffer) => buffer.write(buf),
            None => Ok(buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// While alive, this thread's events up to `level` (span events included; the mock server's
/// own request dumps excluded) go to [`buffer`](Self::buffer).
pub(crate) struct Capture {
    buffer: Buffer,
    /// Bound to the thread it captures.
    _thread: PhantomData<*const ()>,
}

impl Capture {
    pub(crate) fn buffer(&self) -> &Buffer {
        &self.buffer
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        CAPTURE.with(|c| c.borrow_mut().take());
    }
}

/// Captures this thread's tracing output up to `level` until the returned value is dropped.
/// Only from a current-thread runtime (`#[tokio::test]`'s default), whose spawned tasks run on
/// this thread too: on a multi-thread one they would be missed.
pub(crate) fn capture(level: Level) -> Capture {
    assert!(
        tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread),
        "capture() needs a current-thread runtime"
    );
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let capturing = dynamic_filter_fn(|meta, _| {
            !meta.target().starts_with("wiremock")
                && CAPTURE.with(|c| {
                    c.borrow()
                        .as_ref()
                        .is_some_and(|(kept, _)| meta.level() <= kept)
                })
        });
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_span_events(FmtSpan::FULL)
                    .with_ansi(false)
                    .with_writer(ThreadWriter)
                    .with_filter(capturing),
            )
            .try_init()
            .expect("the only global subscriber of this binary");
    });
    let buffer = Buffer::default();
    CAPTURE.with(|c| *c.borrow_mut() = Some((level, buffer.clone())));
    Capture {
        buffer,
        _thread: PhantomData,
    }
}
