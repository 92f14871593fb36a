"""Getting a case out of the store: the PDF case file, sealed bundles, and exports for
other tools (JSON, CSV, GraphML, STIX 2.1).

Every exporter starts from `casedata.load_case`, so they all number the evidence the same
way (exhibits E1, E2, ... in capture order) and cite the same exhibits for the same facts.
Only `pdf` imports Qt (QtGui, never widgets).
"""
