"""Settings and process templates. Loaded only by `workers` and `api`."""
