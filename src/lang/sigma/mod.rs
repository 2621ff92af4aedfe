//! The sigma front-end (not yet implemented).
