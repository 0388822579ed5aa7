"""The audit trail (issue 8): one read-only history across the system, its exports, and the
verification of the hash chains that make tampering evident (21 CFR 11.10(e), EU GMP Annex 11
section 9, ISO 9001 7.5.3)."""
