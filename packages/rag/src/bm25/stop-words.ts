/**
 * English stop words: articles, pronouns, auxiliaries, prepositions, conjunctions and other
 * function words that carry little meaning for search. Matched after lowercasing, before stemming.
 * The analyzer splits words at apostrophes, so contractions appear as pieces ("don", "t", "ll").
 */
export const ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set(
  `a about above after again against all also am an and any are aren as at be because been before
being below between both but by can cannot could couldn did didn do does doesn doing don
down during each either few for from further had hadn has hasn have haven having he her here
hers herself him himself his how however i if in into is isn it its itself just let me more
most much must my myself neither no nor not now of off on once only or other ought our ours
ourselves out over own same shall she should shouldn so some such than that the their theirs them
themselves then there these they this those through thus to too under until up upon us very was
wasn we were weren what when where whether which while who whom whose why will with within
without would wouldn yet you your yours yourself yourselves s t d ll re ve m`.split(/\s+/),
);
