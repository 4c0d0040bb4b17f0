"""Test support code shared by the suites: fixtures that start real services (no mocks)."""
