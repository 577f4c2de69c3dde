//! Sans-IO tracking core: event model, consent, queue policy, batching, retry and sessions.
