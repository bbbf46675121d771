from typing import Any, Dict, List

def submit(spec: Dict[str, Any], project: str = ".") -> int:
    """Submit a job (the fields of a job file, docs/render.md); returns its id."""

def status(job: int, project: str = ".") -> Dict[str, Any]: ...
def jobs(project: str = ".", all: bool = False) -> List[Dict[str, Any]]: ...
