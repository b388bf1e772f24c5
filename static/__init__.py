"""CSS and JavaScript served under /static, shipped as package data."""
