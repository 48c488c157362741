"""The AI assistant: questions about the fleet in Korean or English, answered from its data.

Pure core: ``lexicon`` and ``intents`` (what a question asks), ``data`` (what an answer reads
and gives back), ``replies`` (one function per intent: facts and text in both languages),
``answer`` (the steps), ``grounding`` (what a model is told and whether its numbers are
facts). Shell: ``llm`` (an OpenAI-compatible streaming client), ``conversations`` (context
in the KV), ``service`` (reads the engine, streams events, keeps transcripts). Nothing is
imported here: the route imports ``lib.ai.service`` on the first question.
"""

__all__: list[str] = []
