"""The PR network roster: members, role grants, invites, CSV import/export."""
