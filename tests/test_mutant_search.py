"""The random templates of ``make mutation-search`` (tests/mutant_search.py) are what they claim to be.

GIVEN the search's generator, which writes every other template as YAML with short-form tags
WHEN  the core parses both forms
THEN  the YAML form is the same template as the JSON form, so the search compares what it means to compare;
      and the templates reach every kind of finding, so a mutant that changes one can be seen.
"""

from __future__ import annotations

import json

from mutant_search import Generator, _yaml

from constructs_lib.policy import check_templates, load
from constructs_lib.policy.templates import parse_template


def test_the_yaml_form_of_a_random_template_is_the_json_form() -> None:
    generator = Generator(seed=7)
    for _ in range(200):
        template = generator.template()
        body, problems = parse_template(_yaml(template), "random.yaml")
        assert (body, problems) == (json.loads(json.dumps(template)), [])


def test_random_templates_reach_every_finding_about_ingress(tmp_path) -> None:
    generator, seen = Generator(seed=0), set()
    for index in range(200):
        path = tmp_path / f"t{index}.json"
        path.write_text(json.dumps(generator.template()))
        seen |= {finding.rule_id for finding in check_templates(load([path]))}
    assert seen == {"WorldOpenAdminPort", "BroadAdminSource", "UnverifiableIngress", "MalformedIngress"}
