"""The end-to-end demo: a seeded scenario of tenants, agents and traffic, driven through the
real gateway and the sim-provider, then the period closed and the release published."""
