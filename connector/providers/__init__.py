"""Upstream model servers behind one small interface (`base.Provider`)."""
