"""The web service: REST API, approval pages, dashboard."""
