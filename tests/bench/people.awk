# people.awk -- the benchmarks' district: n teachers (awk -v n=N) in 20
# schools, one in three with a Cyrillic name, some quoted with a comma;
# the CSV that person.import takes.
BEGIN {
	split("Анна Иван Ольга Сергей Мария Дмитрий Елена Алексей Татьяна Николай", rf, " ")
	split("Смирнова Петров Кузнецова Морозов Новикова Волков Соколова Попов Лебедева Козлов", rl, " ")
	split("Mary John Linda David Susan James Karen Robert Emma Peter", ef, " ")
	split("Johnson Smith Brown Taylor Wilson Clark Lewis Walker Young Hall", el, " ")
	split("mathematics|physics|Russian language|English|history|biology|chemistry|primary school|music|physical education", subj, "|")
	print "name,email,organization,position,lang"
	for (i = 1; i <= n; i++) {
		s = i % 20 + 1
		org = (s % 4 == 0) ? "Lyceum No. " s : (s % 4 == 1) ? "Gymnasium No. " s : "School No. " s
		pos = (i % 50 == 0) ? "deputy head" : "teacher of " subj[i % 10 + 1]
		if (i % 3 == 0) {
			name = rf[i % 10 + 1] " " rl[int(i / 10) % 10 + 1]
			if (i % 9 == 0)
				name = "\"" rl[int(i / 10) % 10 + 1] ", " rf[i % 10 + 1] "\""
			lang = "ru"
		} else {
			name = ef[i % 10 + 1] " " el[int(i / 10) % 10 + 1]
			lang = "en"
		}
		printf "%s,t%05d@school%d.example,%s,%s,%s\n", name, i, s, org, pos, lang
	}
}
