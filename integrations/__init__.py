"""Ports (small Protocols) and their adapters: the outbox, the store, and later Jira, SMTP, Slack."""
