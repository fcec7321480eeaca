"""API keys, idempotency records, webhook subscriptions and deliveries."""
