//! The spl front-end (not yet implemented).
