"""One router per concern; `connector.main` mounts them."""
