"""The desktop app: the connector's server in a background thread and a pywebview
window on it. The same entry point also serves headless (`--headless`)."""
