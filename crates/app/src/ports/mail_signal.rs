/// Port: tells the mail sender that a message was queued, so it delivers now instead of at
/// its next poll. Only a hint: the sender polls anyway, so a lost signal delays, never loses.
pub trait MailSignal: Send + Sync {
    fn notify(&self);
}

/// No sender to wake (the CLI, tests): messages wait for the next poll.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoMailSignal;

impl MailSignal for NoMailSignal {
    fn notify(&self) {}
}
