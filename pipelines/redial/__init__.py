"""ReDial (Li et al. 2018): native jsonl + movies_with_mentions.csv (+ movie metadata) to Parquet."""
