"""JDDC 2.1 (JD.com customer-service dialogues with images, knowledge base and three annotation
layers): reader, builder, generator and CLI. See README.md in this folder for the data set card."""
