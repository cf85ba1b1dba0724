"""JDDC 2.1 discourse parsing (paper section 5.3, Table 8): the Deep Sequential parser (`model`),
its examples (`data`), link F1 (`metrics`) and its trainable and evaluation (`run`)."""
