"""Business logic between the routes and the providers/database."""
