//! `JoinError`: why a task produced no output (it panicked, or it was cancelled).

use std::any::Any;
use std::fmt;

use super::id::Id;

/// How a task failed, as stored in the task until its handle reads it.
pub(crate) enum Repr {
    Cancelled,
    Panic(Box<dyn Any + Send + 'static>),
}

/// The error a `JoinHandle` yields when its task did not finish normally.
///
/// ```
/// # magpie::block_on(async {
/// let handle = magpie::spawn(async { panic!("boom") });
/// let err = handle.await.unwrap_err();
/// assert!(err.is_panic());
/// assert_eq!(*err.into_panic().downcast::<&str>().unwrap(), "boom");
/// # });
/// ```
pub struct JoinError {
    id: Id,
    /// The task's name, if it was given one (`task::Builder::name`), for reports.
    name: Option<Box<str>>,
    repr: Repr,
}

impl JoinError {
    pub(crate) fn new(id: Id, name: Option<&str>, repr: Repr) -> JoinError {
        JoinError {
            id,
            name: name.map(Box::from),
            repr,
        }
    }

    /// The task was aborted (or its runtime shut down) before it finished.
    pub fn is_cancelled(&self) -> bool {
        matches!(self.repr, Repr::Cancelled)
    }

    /// The task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.repr, Repr::Panic(_))
    }

    /// The id of the task that failed.
    pub fn id(&self) -> Id {
        self.id
    }

    /// The name of the task that failed, if it had one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The panic payload, to re-raise it with `std::panic::resume_unwind`.
    ///
    /// # Panics
    /// If the task was cancelled rather than panicking; check `is_panic` or use `try_into_panic`.
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        self.try_into_panic()
            .expect("JoinError::into_panic called on a cancelled task; check is_panic() first")
    }

    /// The panic payload, or the error back if the task was cancelled.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.repr {
            Repr::Panic(payload) => Ok(payload),
            Repr::Cancelled => Err(self),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.id)?;
        if let Some(name) = &self.name {
            write!(f, " ({name:?})")?;
        }
        match &self.repr {
            Repr::Cancelled => write!(f, " was cancelled"),
            Repr::Panic(payload) => match super::raw::panic_message(payload.as_ref()) {
                Some(message) => write!(f, " panicked with message {message:?}"),
                None => write!(f, " panicked"),
            },
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Cancelled => write!(f, "JoinError::Cancelled({})", self.id),
            Repr::Panic(payload) => match super::raw::panic_message(payload.as_ref()) {
                Some(message) => write!(f, "JoinError::Panic({}, {message:?})", self.id),
                None => write!(f, "JoinError::Panic({}, ..)", self.id),
            },
        }
    }
}

impl std::error::Error for JoinError {}
