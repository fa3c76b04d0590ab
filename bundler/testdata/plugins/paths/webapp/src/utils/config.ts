export default {greeting: 'via paths'};
