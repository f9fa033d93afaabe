"""Constants shared by the admin API tests (a module of its own: conftest is not importable
by name when several test folders have one)."""

TOKEN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
