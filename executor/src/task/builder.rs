//! `task::Builder`: spawn with options (a name).

use std::future::Future;
use std::io;

use super::join::JoinHandle;
use super::raw::TaskMeta;
use crate::runtime::Handle;

/// Spawns a task with options. Names show up in tracing spans and in panic reports.
///
/// ```
/// # magpie::block_on(async {
/// let handle = magpie::task::Builder::new().name("fetch").spawn(async { 1 }).unwrap();
/// assert_eq!(handle.await.unwrap(), 1);
/// # });
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder {
    name: Option<String>,
}

impl Builder {
    /// A builder with no options set.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Spawns on the current runtime. Outside a runtime this returns an error instead of panicking.
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = Handle::try_current().map_err(io::Error::other)?;
        Ok(self.spawn_on(future, &handle))
    }

    /// Spawns on the runtime of `handle`.
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let meta = self.name.map(|name| TaskMeta {
            name: name.into_boxed_str(),
        });
        handle.spawn_with_meta(future, meta)
    }
}
