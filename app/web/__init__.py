"""The pages the gateway serves to people — the timeline, login and GraphiQL — and their assets."""
