"""The processes that run and the only place settings are loaded and adapters built."""
