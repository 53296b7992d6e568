"""Demo-only code: the seeded workspace, its generated media and sample annotations."""
