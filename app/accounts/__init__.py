"""Accounts, companies and roles."""
