"""Reminders: what is sent, when, and exactly once."""
