//! The built-in contact center: a deterministic simulator of a TaskRouter workspace.
