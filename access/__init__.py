"""Who may see what: local accounts, single sign-on, roles, the sign-in gate and the audit log."""
