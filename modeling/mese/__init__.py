"""MESE (Yang et al., "Improving Conversational Recommendation Systems' Quality with Context-Aware
Item Meta-Information"; spec: ../shared/papers/mese-item-metadata-crs.txt) on mmdial's ReDial or INSPIRED build
(sources.py reads either).

data.py (dialogs, items, samples) -> tokens.py (tokenizers) -> model.py (item encoders, GPT-2
backbone, the three losses) -> train.py / infer.py (faiss selection, ranking, generation) ->
evaluate.py (metrics.json) -> report.py (paper-shaped tables)."""
