"""The small core every model shares: seeding, run folders, progress. Model folders
(`modeling/semantic`, `modeling/jddc`, `modeling/mese`) build on it; it imports none of them."""
