# Shortcuts for course.py, which does the work (and needs only Python 3.11+).
.PHONY: book test notebooks bench setup
book:
	python3 course.py book
test:
	python3 course.py test
notebooks:
	python3 course.py notebooks
bench:
	python3 course.py bench
setup:
	python3 course.py setup
