"""Baselines of SeMANTIC's Table 1 (MHRED, UMD, MAGIC, LARCH, TREASURE) and the CLIP-style and
text-only models: every one a context and a product vector ranked by cosine (`ranking.py`)."""

# kind -> class in modeling/baselines/<kind>.py (the runtime's model registry and the table1
# experiments read this; kept free of torch so `mmdial --help` stays instant)
TABLE1 = {"mhred": "MHRED", "umd": "UMD", "magic": "MAGIC", "larch": "LARCH", "treasure": "TREASURE"}
