"""What people and earlier jobs teach a job: reviewed subtitles, approved translations, a film's names."""
