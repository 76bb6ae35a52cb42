//! OPAL-style calls (placeholder).
