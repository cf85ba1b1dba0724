"""JDDC 2.1 dialogue summarisation (paper section 5.4, Table 9): Lead and LexRank (`extractive`),
Pointer-Generator (`pg`), BERTSUMABS (`bertsum`), the trivial-utterance filter (`trivial`), the
examples (`data`) and the trainable and evaluation (`run`)."""
