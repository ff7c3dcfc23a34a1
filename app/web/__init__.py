"""The pages the gateway serves to people: login and GraphiQL, with every asset served locally."""
