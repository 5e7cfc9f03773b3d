//! Delivery of alert notifications to webhooks (being written).
