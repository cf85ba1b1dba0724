"""MMD (Saha et al. 2018) and MMD 2.0 (Nie et al. 2021) into MMD-v2 and MMD-v3. See README.md."""
