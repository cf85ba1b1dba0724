"""ReDial's own table: the movie questionnaires (suggested, seen, liked) both workers filled in.

Every ReDial dialog ends with two forms, one per worker, asking about each movie mentioned:
was it suggested by the recommender, has the seeker seen it, did the seeker like it. The two
forms are filled independently and may disagree, so both are kept, one row per
(dialog, movie, form); a form given as `[]` (no answers) yields no rows. The shared tables
(`turns`, `rec_samples`, `products`) carry the rest of ReDial; see pipelines/redial/README.md.
"""

from __future__ import annotations

import pyarrow as pa

from schemas.registry import Column, Table, register

STR = pa.string()
I32 = pa.int32()

FORMS = ("seeker", "recommender")

REDIAL_MOVIE_LABELS = register(
    Table(
        name="redial_movie_labels",
        version=1,
        group="redial",
        doc=(
            "ReDial questionnaire answers: one row per dialog, movie and form. `form` says whose form "
            "(`seeker` = initiatorQuestions, `recommender` = respondentQuestions); the two may disagree."
        ),
        columns=(
            Column("dataset", STR, "Data set name (`redial`).", nullable=False),
            Column("dialog_id", STR, "conversationId of the dialog.", nullable=False),
            Column("split", STR, "Split of the dialog (train, valid, test).", nullable=False),
            Column("movie_id", STR, "ReDial movieId (`products.product_id`).", nullable=False),
            Column("form", STR, "Whose questionnaire: " + ", ".join(FORMS) + ".", nullable=False),
            Column("movie_name", STR, "The movie's name as the dialog's movieMentions gives it, whitespace normalised."),
            Column("suggested", I32, "0: mentioned by the seeker; 1: suggested by the recommender.", nullable=False),
            Column("seen", I32, "0: the seeker has not seen it; 1: has seen it; 2: did not say.", nullable=False),
            Column("liked", I32, "0: the seeker did not like it; 1: liked it; 2: did not say.", nullable=False),
            Column("mentioned_by_seeker", pa.bool_(), "The seeker's messages mention the movie (`@id`).", nullable=False),
            Column("mentioned_by_recommender", pa.bool_(), "The recommender's messages mention the movie (`@id`).", nullable=False),
        ),
        sort_key=("dialog_id", "movie_id", "form"),
    )
)
