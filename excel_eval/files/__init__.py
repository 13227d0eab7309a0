"""The files a run writes into the output folder: names that fit (`names`), writes that are whole or absent
(`atomic`), one run at a time (`lock`), the record behind the removal of stale reports (`record`) and
operating-system errors as sentences (`errors`)."""
