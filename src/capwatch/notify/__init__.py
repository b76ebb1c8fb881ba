"""Notifications: the Apprise adapter, report builders, the outbox and report scheduling."""
