# Course settings nbgrader reads when `assignkit release` turns source/<hw> into release/<hw>.
# The course root and the gradebook location are set by assignkit (the gradebook goes to .nbgrader/).
c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__"]

c.ClearSolutions.code_stub = {"python": "# 여기에 코드를 작성하세요 (YOUR CODE HERE)\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "여기에 답을 쓰세요 (YOUR ANSWER HERE)"
c.ClearSolutions.enforce_metadata = True

# The language of feedback pages, reasons and check messages (ko or en); `--lang` overrides it per run.
c.Assignkit.language = "ko"
